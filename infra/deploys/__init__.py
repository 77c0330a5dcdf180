"""pyinfra deploys, one module per role; ``deploy.py`` at the top level applies them by group."""
