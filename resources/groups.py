"""Names of the groups the `0002_catalogue_groups` migration creates."""

READERS = "catalogue readers"
EDITORS = "catalogue editors"
