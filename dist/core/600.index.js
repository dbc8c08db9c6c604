export const id = 600;
export const ids = [600];
export const modules = {

/***/ 7600:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   "default": () => (__WEBPACK_DEFAULT_EXPORT__)
/* harmony export */ });
/* harmony import */ var _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1662);
/* harmony import */ var _lib_run_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4114);


/* harmony default export */ const __WEBPACK_DEFAULT_EXPORT__ = ((0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .defineAction */ .QP)({
    name: 'build-release-image',
    inputs: {
        context: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        dockerfile: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        image: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        registries: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text(),
        tag: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        version: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'tag-rules': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text(),
        'verify-describe': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        platforms: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        'build-args': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        labels: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        push: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        cache: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        save: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'save-platform': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        check: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text(),
        meta: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'registry-auth': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text({ secret: true }),
        'insecure-registries': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
    },
    async main() {
        (0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .notImplemented */ .SJ)('build-release-image', 5);
    },
}));


/***/ })

};
