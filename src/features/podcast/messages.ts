// Messages the podcast best-of shows word for word (the browser tests check them).

/** When a URL cannot be fetched from the browser: a CORS refusal and a network failure look the same to a page. */
export const HOST_REFUSED = 'the host does not allow browsers to fetch this file: download it and drop it here';
