-- Runs once when the MariaDB container initialises its data directory. The image has already
-- created the user `sluice` with all privileges on the database `shop`; sluice also needs to read
-- the binlog as a replica.
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'sluice'@'%';
