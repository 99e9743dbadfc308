"""Program factories, named from Java as py:dspy_app.agents:make_writer."""

import dspy


class Writer(dspy.Module):
    """Draft, then polish: a composed module as users write them."""

    def __init__(self, tone):
        super().__init__()
        self.tone = tone
        self.draft = dspy.Predict("topic -> draft")
        self.polish = dspy.ChainOfThought("draft, tone -> text")

    def forward(self, topic):
        return self.polish(draft=self.draft(topic=topic).draft, tone=self.tone)


def make_writer(tone="plain"):
    return Writer(tone)
