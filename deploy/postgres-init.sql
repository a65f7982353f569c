-- One database per service (shared/config.py: ECASE_DATABASE_URL names the server and each
-- service uses ecase_<service>).  docker-compose.yml mounts this file into the postgres
-- image's /docker-entrypoint-initdb.d/, which runs it once, as POSTGRES_USER, when the data
-- volume is first initialised.  The migrate service then creates the tables.
CREATE DATABASE ecase_gateway;
CREATE DATABASE ecase_intake;
CREATE DATABASE ecase_approval;
CREATE DATABASE ecase_payment;
CREATE DATABASE ecase_reporting;
