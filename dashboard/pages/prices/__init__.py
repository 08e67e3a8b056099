"""The agricultural price monitor page (issue 9): page.py registers it; charts.py builds its figures."""
