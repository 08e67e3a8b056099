"""The Dash app: shell, pages, components and figure builders. Reads the pool only through `queries`."""
