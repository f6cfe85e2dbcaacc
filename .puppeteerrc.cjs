// Installing must never download a browser: WhatsApp uses Debian's chromium (CHROMIUM_PATH).
module.exports = { skipDownload: true, executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium' };
