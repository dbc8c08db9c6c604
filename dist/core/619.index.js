export const id = 619;
export const ids = [619];
export const modules = {

/***/ 7619:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   "default": () => (__WEBPACK_DEFAULT_EXPORT__)
/* harmony export */ });
/* harmony import */ var _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1662);
/* harmony import */ var _lib_run_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4114);


/* harmony default export */ const __WEBPACK_DEFAULT_EXPORT__ = ((0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .defineAction */ .QP)({
    name: 'pack-offline',
    inputs: {
        mode: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['pack', 'import']),
        spec: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        images: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text(),
        format: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['docker-archive', 'oci-archive', 'oci']),
        platform: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        output: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        version: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'output-dir': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        compression: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['none', 'gzip']),
        'split-size': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.size({ min: 1024 * 1024, optional: true }),
        'upload-artifact': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        'artifact-name': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'retention-days': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.integer({ min: 0, max: 90 }),
        archive: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        target: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'registry-auth': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text({ secret: true }),
        'insecure-registries': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
    },
    async main() {
        (0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .notImplemented */ .SJ)('pack-offline', 4);
    },
}));


/***/ })

};
