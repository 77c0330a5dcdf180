"""pyinfra inventory: ``pyinfra inventory.py deploy.py``.

No host groups are defined until the lab and deploy issues (7, 8) land; pyinfra then reads the
lab's generated inventory or the shop's own hosts from here.
"""
