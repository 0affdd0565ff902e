"""Training: the options of a run, named recipes and budgets, which pixels each step takes,
the images to fit, and the loop (``loop.Trainer``) that steps through loe_ref.fast."""
