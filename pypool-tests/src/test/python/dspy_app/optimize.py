"""Optimize a program in Python and save it, as a user would before serving it from Java.

    python -m dspy_app.optimize STATE.json [PICKLE_DIR]

BootstrapFewShot with DSPy's DummyLM (no network) keeps the train examples the LM got right as
demos, then ``save`` writes the program's state (and, with PICKLE_DIR, the whole program).
"""

import sys

import dspy

TRAIN = [("What is 2+2?", "4"), ("What is 3+3?", "6"), ("What is 5+5?", "10")]


def optimize():
    lm = dspy.utils.DummyLM({q: {"answer": a} for q, a in TRAIN})
    trainset = [dspy.Example(question=q, answer=a).with_inputs("question") for q, a in TRAIN]
    student = dspy.Predict("question -> answer")
    with dspy.context(lm=lm):
        return dspy.BootstrapFewShot(metric=lambda ex, pred, trace=None: ex.answer == pred.answer,
                                     max_bootstrapped_demos=3, max_labeled_demos=0).compile(student, trainset=trainset)


if __name__ == "__main__":
    program = optimize()
    program.save(sys.argv[1])
    if len(sys.argv) > 2:
        program.save(sys.argv[2], save_program=True)
    print(len(program.demos), "demos")
