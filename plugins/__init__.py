"""Built-in dataset plugins (installed as samunet_tune.plugins), one file each."""
