"""Models: LightGBM training, calibration, the conversion model, BANT rules, the composite scorer, explanations."""
