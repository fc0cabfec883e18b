/**
 * Every answer of a datactl server's routes carries this header (value: the API version). A client
 * that gets a 2xx without it is talking to something else on that URL (another service on the
 * port, a proxy's own page) and says so, instead of failing on a JSON shape it did not expect.
 */
export const API_HEADER = 'x-datactl-api';
export const API_VERSION = '1';
