// The smallest API-shaped Lambda handler: the cold-start baseline next to the real bundles.
export const handler = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 200, body: '{"ok":true}' });
