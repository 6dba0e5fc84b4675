"""A zotero.sqlite built with Zotero's own schema (6 and 7: userdata.sql and system.sql)
for the tables localdigest reads, holding a few items of each kind Zotero keeps."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Zotero 6/7's tables as its schema (userdata.sql, system.sql) declares the ones read here.
ZOTERO_SCHEMA = """
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT NOT NULL,
    templateItemTypeID INT, display INT DEFAULT 1);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT NOT NULL, fieldFormatID INT);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT NOT NULL);
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL,
    filesEditable INT NOT NULL, version INT NOT NULL DEFAULT 0,
    storageVersion INT NOT NULL DEFAULT 0, lastSync INT NOT NULL DEFAULT 0,
    archived INT NOT NULL DEFAULT 0);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0,
    synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key),
    FOREIGN KEY (libraryID) REFERENCES libraries(libraryID) ON DELETE CASCADE);
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID));
CREATE TABLE itemNotes (itemID INTEGER PRIMARY KEY, parentItemID INT, note TEXT, title TEXT);
CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT,
    contentType TEXT, charsetID INT, path TEXT, syncState INT DEFAULT 0,
    storageModTime INT, storageHash TEXT, lastProcessedModificationTime INT);
CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE itemTags (itemID INT NOT NULL, tagID INT NOT NULL, type INT NOT NULL,
    PRIMARY KEY (itemID, tagID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT,
    fieldMode INT, UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL,
    creatorTypeID INT NOT NULL DEFAULT 1, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex), UNIQUE (itemID, orderIndex));
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL,
    parentCollectionID INT DEFAULT NULL,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL,
    key TEXT NOT NULL, version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0,
    UNIQUE (libraryID, key));
CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL,
    orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (collectionID, itemID));
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY,
    dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
"""


def make_zotero(path: Path) -> Path:
    """A zotero.sqlite with a preprint, a journal article, a note, an attachment and an
    item in the trash, with creators, tags and a collection."""
    db = sqlite3.connect(path)
    db.executescript(ZOTERO_SCHEMA)
    db.executemany(
        "INSERT INTO itemTypes (itemTypeID, typeName) VALUES (?, ?)",
        [(1, "annotation"), (3, "attachment"), (22, "journalArticle"), (28, "note"),
         (31, "preprint")],
    )  # fmt: skip
    fields = ["title", "abstractNote", "date", "url", "DOI", "extra", "archiveID", "pages"]
    db.executemany("INSERT INTO fields VALUES (?, ?, NULL)", list(enumerate(fields, 1)))
    db.execute("INSERT INTO creatorTypes VALUES (8, 'author')")
    db.execute("INSERT INTO libraries VALUES (1, 'user', 1, 1, 0, 0, 0, 0)")
    rows = [
        (1, 31, "2024-11-02 09:15:00", "TIMELLM1"),
        (2, 22, "2023-01-20 18:00:00", "INFORMR2"),
        (3, 28, "2024-11-02 09:16:00", "NOTE0003"),
        (4, 3, "2024-11-02 09:17:00", "ATTACH04"),
        (5, 22, "2022-05-05 10:00:00", "TRASHED5"),
    ]
    db.executemany(
        "INSERT INTO items (itemID, itemTypeID, dateAdded, libraryID, key) VALUES (?, ?, ?, 1, ?)",
        rows,
    )
    values = {
        (1, "title"): "Time-LLM: Time Series Forecasting by Reprogramming Large Language Models",
        (1, "abstractNote"): "Time series are reprogrammed into text prototypes.",
        (1, "archiveID"): "arXiv:2310.01728",
        (1, "date"): "2023-10-03",
        (2, "title"): "Informer: Beyond Efficient Transformer for Long Sequence Forecasting",
        (2, "DOI"): "10.1609/aaai.v35i12.17325",
        (2, "extra"): "Citation Key: zhou2021informer",
        (3, "title"): "my note",
        (4, "title"): "Full Text PDF",
        (5, "title"): "A paper in the trash",
    }
    for n, ((item, name), value) in enumerate(values.items(), 1):
        db.execute("INSERT INTO itemDataValues VALUES (?, ?)", (n, value))
        db.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item, fields.index(name) + 1, n))
    db.executemany(
        "INSERT INTO creators VALUES (?, ?, ?, ?)",
        [(1, "Ming", "Jin", 0), (2, "Shiyu", "Wang", 0), (3, "", "Time Series Group", 1),
         (4, "Haoyi", "Zhou", 0)],
    )  # fmt: skip
    db.executemany(
        "INSERT INTO itemCreators VALUES (?, ?, 8, ?)",
        [(1, 1, 0), (1, 2, 1), (1, 3, 2), (2, 4, 0)],
    )
    db.executemany("INSERT INTO tags VALUES (?, ?)", [(1, "forecasting"), (2, "LLM")])
    db.executemany("INSERT INTO itemTags VALUES (?, ?, 0)", [(1, 1), (1, 2), (2, 1)])
    db.execute("INSERT INTO collections (collectionID, collectionName, libraryID, key) "
               "VALUES (1, 'Time series', 1, 'COLL0001')")  # fmt: skip
    db.execute("INSERT INTO collectionItems VALUES (1, 2, 0)")
    db.execute("INSERT INTO itemAttachments (itemID, parentItemID, linkMode) VALUES (4, 1, 1)")
    db.execute("INSERT INTO itemNotes (itemID, parentItemID, note) VALUES (3, 1, '<p>x</p>')")
    db.execute("INSERT INTO deletedItems (itemID) VALUES (5)")
    db.commit()
    db.close()
    return path
