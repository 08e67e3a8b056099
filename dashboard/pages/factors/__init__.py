"""The governance factor-analysis page (issue 12): the page module, its pure view builders."""
