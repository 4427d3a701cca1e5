"""Starting the production topology on loopback: TLS proxy, app servers, services.

Tooling, not server code: nothing in the server imports it. `make cluster` runs
`python -m deploy.cluster`, and the cluster tests (tests/cluster/) import the same
launcher, so what they prove is what people start.
"""
