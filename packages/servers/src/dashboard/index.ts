export { type DashboardFiles, type DashboardSource, locateDashboard, readDashboardDirectory } from './assets.js';
export { DASHBOARD_PATH, type DashboardOptions, serveDashboard, servedByDashboard } from './serve.js';
