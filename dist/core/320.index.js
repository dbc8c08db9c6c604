export const id = 320;
export const ids = [320];
export const modules = {

/***/ 4320:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   "default": () => (__WEBPACK_DEFAULT_EXPORT__)
/* harmony export */ });
/* harmony import */ var _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1662);
/* harmony import */ var _lib_run_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4114);


/* harmony default export */ const __WEBPACK_DEFAULT_EXPORT__ = ((0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .defineAction */ .QP)({
    name: 'sync-images',
    inputs: {
        images: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text(),
        'source-registry': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        target: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        'strip-prefix': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        platforms: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        concurrency: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.integer({ min: 1, max: 64 }),
        'blob-concurrency': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.integer({ min: 1, max: 128 }),
        'dry-run': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        'fail-fast': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        shard: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ pattern: /^\d+\/\d+$/, hint: 'i/n, e.g. 2/4' }),
        'registry-auth': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text({ secret: true }),
        'insecure-registries': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        'output-dir': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
    },
    async main() {
        (0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .notImplemented */ .SJ)('sync-images', 3);
    },
}));


/***/ })

};
