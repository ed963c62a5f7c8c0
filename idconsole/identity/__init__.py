"""Textual-free investigation of identities, shared by the console and the command line (one truth).

- `ids`      what an id looks like (an email, a number, a device UUID) and whether it looks like junk
- `graph`    the identity graph as data: the chain upward (cycles marked), pages of children, tree nodes
- `resolve`  which user an id stands for: mapping lookup first, User search only when that says nothing
- `lookup`   one whole lookup: resolve, then follow the chain; the JSON `idconsole lookup --json` prints
- `activity` the events of every id of a tree within the 360/hour budget: cost first, cancellable
- `timeline` those events merged newest first, tagged, with identity-change `markers`, headers, pages
- `devices`  who each device was seen under; a device seen under more than 3 user ids is shared
- `compare`  two users side by side before a map or merge: what differs, what survives, shared devices
- `mixpanel_lookup` a Mixpanel distinct id: canonical id, properties, ids observed in its cluster's events
- `report`   the Markdown (and JSON) summary for the ticket, without secrets or property values

Nothing here renders text: ids stay raw strings, each face shows them literally.
"""
