"""Textual-free investigation of identities, shared by the console and the command line (one truth).

- `ids`      what an id looks like (an email, a number, a device UUID) and whether it looks like junk
- `graph`    the identity graph as data: the chain upward (cycles marked), pages of children, tree nodes
- `resolve`  which user an id stands for: mapping lookup first, User search only when that says nothing
- `lookup`   one whole lookup: resolve, then follow the chain; the JSON `idconsole lookup --json` prints

Nothing here renders text: ids stay raw strings, each face shows them literally.
"""
