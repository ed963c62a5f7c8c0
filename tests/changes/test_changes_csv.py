"""CSV import: one row one change, every bad row reported with its line, all or nothing."""

from __future__ import annotations

import pytest

from idconsole.api.errors import BadInput
from idconsole.changes import CsvImportError, StagedSet, import_csv, parse_csv_text

GOOD = """op,user_id,global_user_id,key,value
map,user-0001,global-0001
unmap,user-0002,
set,user-0003,,plan,pro
$setOnce,user-0003,,first_seen,2024-01-01
add,user-0003,,logins,2
$add,user-0003,,credit,-1.5
append,user-0003,,tags,"vip, gold"
unset,user-0003,,old_key,
clearAll,user-0004,,,
mp-identify,$device:3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02,user@example.com
mp_alias,alias-0001,distinct-01
mp-merge,distinct-a,distinct-b
"""


def test_every_op():
    changes = parse_csv_text(GOOD)
    assert [c.op for c in changes] == ["map", "unmap", "identify", "identify", "identify", "identify", "identify",
                                       "identify", "identify", "mp_identify", "mp_alias", "mp_merge"]
    assert changes[0].global_user_id == "global-0001"
    assert changes[2].operation == "$set" and dict(changes[2].properties) == {"plan": "pro"}
    assert changes[4].operation == "$add" and dict(changes[4].properties) == {"logins": 2}
    assert dict(changes[5].properties) == {"credit": -1.5}
    assert dict(changes[6].properties) == {"tags": "vip, gold"}
    assert changes[7].operation == "$unset" and dict(changes[7].properties) == {"old_key": "-"}
    assert changes[8].operation == "$clearAll"
    assert changes[9].anon_id == "$device:3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02" and changes[9].identified_id == "user@example.com"
    assert changes[11].distinct_ids == ("distinct-a", "distinct-b")


def test_header_is_optional_and_comments_and_blank_lines_are_skipped():
    text = "\ufeff# fixes for ticket 123\n\nmap,user-0001,global-0001\n  \nunmap,user-0002\n"
    assert [c.op for c in parse_csv_text(text)] == ["map", "unmap"]


def test_ids_are_kept_exactly():
    (change,) = parse_csv_text('map," user-0001 ","ünïcødé <b>x</b>"\n')
    assert change.user_id == " user-0001 " and change.global_user_id == "ünïcødé <b>x</b>"


def test_every_bad_row_is_reported_with_its_line(tmp_path):
    text = "\n".join([
        "op,user_id,global_user_id,key,value",   # 1
        "map,user-0001,global-0001",              # 2 ok
        "map,user-0002,",                         # 3 no global
        "unmap,user-0003,global-0001",            # 4 unmap with global
        "teleport,user-0004,x",                   # 5 unknown op
        "add,user-0005,,logins,many",             # 6 $add not a number
        ",user-0006,x",                           # 7 empty op
        "set,,,plan,pro",                         # 8 empty user
        "set,user-0007,,,pro",                    # 9 no key
        "mp-merge,same-id,same-id",               # 10 same ids
        "map,a,b,c,d,e",                          # 11 too many columns
        "set,user-0008,,plan,pro",                # 12 ok
    ])
    with pytest.raises(CsvImportError) as info:
        parse_csv_text(text, source="fix.csv")
    assert [line for line, _ in info.value.errors] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    reasons = dict(info.value.errors)
    assert "the global user id is required" in reasons[3]
    assert "global_user_id" in reasons[4]
    assert "unknown op" in reasons[5]
    assert "number" in reasons[6]
    assert "line 6" in str(info.value) and "nothing was staged" in str(info.value)


def test_multiline_quoted_cells_keep_line_numbers():
    text = 'set,user-0001,,note,"line one\nline two"\nmap,user-0002,\n'
    with pytest.raises(CsvImportError) as info:
        parse_csv_text(text)
    assert [line for line, _ in info.value.errors] == [3]


def test_import_is_all_or_nothing(tmp_path):
    staged = StagedSet.load(tmp_path / "state" / "staged.json", "p")
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "map,user-0009,\n", encoding="utf-8")
    with pytest.raises(CsvImportError):
        staged.extend(import_csv(bad))
    assert len(StagedSet.load(tmp_path / "state" / "staged.json", "p")) == 0
    staged.extend(import_csv(good))
    assert len(StagedSet.load(tmp_path / "state" / "staged.json", "p")) == 12


def test_unreadable_files(tmp_path):
    with pytest.raises(BadInput, match="No such file"):
        import_csv(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"map,user-0001,global-0001\nmap,caf\xe9-user,global-0001\n")
    with pytest.raises(CsvImportError) as info:
        import_csv(latin)
    assert info.value.errors[0][0] == 2
    empty = tmp_path / "empty.csv"
    empty.write_text("op,user_id,global_user_id\n")
    with pytest.raises(BadInput, match="no changes"):
        import_csv(empty)
