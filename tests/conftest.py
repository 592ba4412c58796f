"""The suite's root: pytest puts this folder on sys.path, so every subfolder imports `helpers`."""
