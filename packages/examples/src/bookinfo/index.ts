/**
 * The polyglot bookinfo as a library: {@link startBookinfo} starts it (a control plane, sidecars
 * around Python, Go and Java apps, ratings in Node, a gateway) and returns its URLs and `stop()`;
 * {@link loadProduct} and {@link describeProduct} read its product page.
 *
 * @module @weft/examples/bookinfo
 */
export { describeProduct, loadProduct, type PageLoad, type ProductView, reviewsVersion } from './product.js';
export { ALL_TO_V1, type Bookinfo, type BookinfoOptions, type BookinfoProxy, startBookinfo } from './start.js';
export { checkToolchains, MissingToolchainError } from './toolchains.js';
