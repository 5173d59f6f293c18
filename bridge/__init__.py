"""bridge: a referral and social-buying engine for small e-commerce shops."""

__version__ = "0.1.0"
