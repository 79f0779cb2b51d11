// The emulators live with the local stack (local/emulators.ts), which production code (`npm start`)
// uses too; tests keep importing them from here.
export * from '../../local/emulators';
