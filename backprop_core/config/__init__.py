"""The config file: YAML with line numbers, the pydantic model and its messages.

Also the cross-key rules, the JSON schema and the `bp init` templates.
"""
