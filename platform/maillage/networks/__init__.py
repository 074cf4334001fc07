"""Networks of towns (the association of small towns, Villes Internet...) and label awards."""
