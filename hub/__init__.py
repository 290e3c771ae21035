"""Model-card templates and the publishing procedure (see README.md here).

Installed as `samunet_tune.hub.templates`, so `samunet-tune push` finds the card template in a
wheel too; `samunet_tune.hub.card` falls back to this folder in a source checkout.
"""
