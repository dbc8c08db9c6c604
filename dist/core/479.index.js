export const id = 479;
export const ids = [479];
export const modules = {

/***/ 479:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   "default": () => (__WEBPACK_DEFAULT_EXPORT__)
/* harmony export */ });
/* harmony import */ var _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1662);
/* harmony import */ var _lib_run_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4114);


/* harmony default export */ const __WEBPACK_DEFAULT_EXPORT__ = ((0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .defineAction */ .QP)({
    name: 'upload-oss',
    inputs: {
        source: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text(),
        destination: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ pattern: /^(oss|s3|https?|file):\/\/\S+$/, hint: 'oss://bucket/prefix, s3://bucket/prefix, https://url or file://dir' }),
        version: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        tag: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        endpoint: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        region: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        concurrency: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.integer({ min: 1, max: 64 }),
        'part-size': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.size({ min: 100 * 1024, max: 5 * 1024 ** 3 }),
        'part-concurrency': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.integer({ min: 1, max: 64 }),
        checksum: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        'skip-unchanged': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        'content-type': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'cache-control': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        acl: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'http-method': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['PUT', 'POST']),
        'dry-run': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        resume: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        'state-dir': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        manifest: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'access-key-id': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ secret: true }),
        'access-key-secret': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ secret: true }),
        'security-token': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ secret: true }),
        token: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ secret: true }),
    },
    async main() {
        (0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .notImplemented */ .SJ)('upload-oss', 6);
    },
    async post() {
        // Nothing to abort yet: multipart abort on cancel lands with the action itself.
    },
}));


/***/ })

};
