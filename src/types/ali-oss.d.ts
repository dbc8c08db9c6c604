// ali-oss ships no types; the backend (src/lib/storage/oss.ts) types what it uses itself.
declare module 'ali-oss';
