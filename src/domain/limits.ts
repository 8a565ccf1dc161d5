/**
 * Event bodies up to this many characters travel in the delivery workflow's input, so an attempt needs no read
 * of the event; larger ones are read from MongoDB by id. (Bodies in the input are visible in Temporal history.)
 */
export const INLINE_BODY_MAX = 8192;
