"""The dashboard's pages, one module each: a page's queries, the pandas that turns their rows into what it shows,
and `page()`, which draws it. `app.py` lists them and gives each its address.

The folder is not named `pages/` on purpose: Streamlit (1.67) takes a `pages/` folder beside the main script for
an old-style multipage app, and until the first `st.navigation` call of the server's life it runs
`pages/kpis.py` itself for `/kpis` and adds its own page list to the sidebar.
"""
