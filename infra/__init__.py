"""pyinfra deploys for the router, firewall, database and app servers, and the lab.

Built by issues 7 and 8; ``inventory.py`` and ``deploy.py`` at the top level are their entry points.
"""
