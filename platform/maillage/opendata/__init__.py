"""Open data: every public initiative as CSV and JSON under the Licence Ouverte 2.0, its DCAT
catalog, and Atom feeds of initiatives per theme, town, network and search."""
