// Rendering cloud-init user-data from a recipe (launcher side).
export { renderUserData, type RenderedUserData, type UserDataOptions } from './render.js';
export { EC2_USER_DATA_LIMIT } from './ec2-limit.js';
export { INSTANCE_PATHS } from '../lib/instance-paths.js';
