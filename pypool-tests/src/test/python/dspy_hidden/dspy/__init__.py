# Put first on a pool's pythonPath, this hides an installed DSPy on purpose: DspyMissingTest.
raise ImportError("DSPy is hidden on purpose by pypool's DspyMissingTest")
