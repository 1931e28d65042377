// @sluice/client: the Node.js client of sluice. See ../README.md.
'use strict';

const {SluiceClient} = require('./client');
const {SluiceError} = require('./errors');
const {decodeEvent} = require('./event');
const {decodeValue, decodeRow} = require('./values');
const {DEFAULT_PROTO_DIR} = require('./protos');

module.exports = {SluiceClient, SluiceError, decodeEvent, decodeValue, decodeRow,
  DEFAULT_PROTO_DIR};
