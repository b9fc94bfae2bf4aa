"""The suppression list: addresses never mailed again."""
