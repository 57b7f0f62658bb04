BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('8606fa83a998');
CREATE TABLE experiment_permissions (
	id INTEGER NOT NULL,
	experiment_id VARCHAR(255) NOT NULL,
	user_id INTEGER NOT NULL,
	permission VARCHAR(255),
	PRIMARY KEY (id),
	CONSTRAINT fk_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT unique_experiment_user UNIQUE (experiment_id, user_id)
);
INSERT INTO "experiment_permissions" VALUES(1,'1',2,'MANAGE');
INSERT INTO "experiment_permissions" VALUES(2,'1',3,'READ');
INSERT INTO "experiment_permissions" VALUES(3,'2',3,'EDIT');
INSERT INTO "experiment_permissions" VALUES(4,'0',4,'NO_PERMISSIONS');
CREATE TABLE registered_model_permissions (
	id INTEGER NOT NULL,
	name VARCHAR(255) NOT NULL,
	user_id INTEGER NOT NULL,
	permission VARCHAR(255),
	PRIMARY KEY (id),
	CONSTRAINT fk_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT unique_name_user UNIQUE (name, user_id)
);
INSERT INTO "registered_model_permissions" VALUES(1,'wine-model',2,'MANAGE');
INSERT INTO "registered_model_permissions" VALUES(2,'wine-model',4,'READ');
CREATE TABLE users (
	id INTEGER NOT NULL,
	username VARCHAR(255),
	password_hash VARCHAR(255),
	is_admin BOOLEAN,
	PRIMARY KEY (id),
	UNIQUE (username)
);
INSERT INTO "users" VALUES(1,'admin','scrypt:32768:8:1$6GS4wk3WbbvHD9h1$002cae4014b85fe6b09bb17c463164e69c86f49ace723d25a9ab2a65b3f8359b31b171f9a7f6e83044d4a35ff506f43e21613f803df78fb2e3c26381cff797a4',1);
INSERT INTO "users" VALUES(2,'alice','scrypt:32768:8:1$sY23fFhV9AC5NapY$265aacf3a3309f1f2a506b6b21b650b356b832cc96d12d13a27cc98d3df2477380001151e816adfeeeb2a1c1c103fbd82fc321146695ca67a88c01aee592daea',0);
INSERT INTO "users" VALUES(3,'bob','pbkdf2:sha256:260000$spNVuOszZR6m0kaq$9cbbbe4811e6033efb8e3910bc12d7e36023daa2619cddb354d1971539f81a0a',0);
INSERT INTO "users" VALUES(4,'carol','pbkdf2:sha256:1000000$FTdbRMqX830yLp6S$9967afe52267a7d5f313d9a5ebd7d5ce1ae9a339893cd2f1f627501a7044691e',0);
COMMIT;
