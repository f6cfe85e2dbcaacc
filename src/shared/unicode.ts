/** A high surrogate not followed by a low one, or a low one not preceded by a high one: text Postgres refuses. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
