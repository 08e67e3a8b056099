"""The urban-rural digital-divide page: page.py registers it; components.py and charts.py build its parts."""
