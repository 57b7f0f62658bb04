"""Writes basic_auth.sql: an MLflow basic-auth database as MLflow writes it.

The schema is MLflow's auth migration 8606fa83a998 (mlflow/server/auth/db/
migrations/versions/8606fa83a998_initial_migration.py) as it lands in SQLite;
password hashes come from werkzeug's generate_password_hash, which is what
MLflow's SqlAlchemyStore.create_user calls. The database is built in memory
with Python's sqlite3 and dumped as SQL text (iterdump), so the repository
holds no binary database; the tests load the dump into a file of their own.

Run: python3 make_basic_auth.py  (needs werkzeug; any version: werkzeug 3
writes scrypt hashes by default, 2.x pbkdf2:sha256:260000, and both are in
the fixture).
"""
import sqlite3

from werkzeug.security import generate_password_hash

SCHEMA = """
CREATE TABLE users (
	id INTEGER NOT NULL,
	username VARCHAR(255),
	password_hash VARCHAR(255),
	is_admin BOOLEAN,
	PRIMARY KEY (id),
	UNIQUE (username)
);
CREATE TABLE experiment_permissions (
	id INTEGER NOT NULL,
	experiment_id VARCHAR(255) NOT NULL,
	user_id INTEGER NOT NULL,
	permission VARCHAR(255),
	PRIMARY KEY (id),
	CONSTRAINT fk_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT unique_experiment_user UNIQUE (experiment_id, user_id)
);
CREATE TABLE registered_model_permissions (
	id INTEGER NOT NULL,
	name VARCHAR(255) NOT NULL,
	user_id INTEGER NOT NULL,
	permission VARCHAR(255),
	PRIMARY KEY (id),
	CONSTRAINT fk_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT unique_name_user UNIQUE (name, user_id)
);
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO alembic_version (version_num) VALUES ('8606fa83a998');
"""

# (username, password, is_admin, werkzeug method or None for its default)
USERS = [
    ("admin", "password", True, None),
    ("alice", "alice-pw", False, None),
    ("bob", "bob:pw with colon", False, "pbkdf2:sha256:260000"),
    ("carol", "carol-pw", False, "pbkdf2:sha256"),
]
EXPERIMENT_PERMISSIONS = [("1", "alice", "MANAGE"), ("1", "bob", "READ"), ("2", "bob", "EDIT"), ("0", "carol", "NO_PERMISSIONS")]
MODEL_PERMISSIONS = [("wine-model", "alice", "MANAGE"), ("wine-model", "carol", "READ")]

db = sqlite3.connect(":memory:")
db.executescript(SCHEMA)
ids = {}
for name, pw, admin, method in USERS:
    h = generate_password_hash(pw) if method is None else generate_password_hash(pw, method=method)
    cur = db.execute("INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?)", (name, h, admin))
    ids[name] = cur.lastrowid
for exp, user, perm in EXPERIMENT_PERMISSIONS:
    db.execute("INSERT INTO experiment_permissions (experiment_id, user_id, permission) VALUES (?, ?, ?)", (exp, ids[user], perm))
for model, user, perm in MODEL_PERMISSIONS:
    db.execute("INSERT INTO registered_model_permissions (name, user_id, permission) VALUES (?, ?, ?)", (model, ids[user], perm))
db.commit()
with open("basic_auth.sql", "w") as f:
    for line in db.iterdump():
        f.write(line + "\n")
