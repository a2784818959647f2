"""hitclaims: home infusion therapy records to correct, explainable, payer-ready claims."""

__version__ = "0.1.0"
