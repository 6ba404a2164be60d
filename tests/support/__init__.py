"""What tests share: helpers imported by modules (fixtures stay in conftest.py files)."""
