"""Towns (maillage/towns): the communes import, the API and the pages."""
