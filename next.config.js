/** @type {import('next').NextConfig} */
const nextConfig = {
  // The engine (nodes/) is plain TypeScript shared by the editor and the server.
  reactStrictMode: true,
  // Native packages stay outside the server bundle (Next already lists these; kept explicit for clarity).
  serverExternalPackages: ["onnxruntime-node", "sharp", "bullmq", "ioredis", "@aws-sdk/client-s3"],
  // Several dev servers (or a dev server beside a test build) can work from one checkout with their own folders.
  distDir: process.env.TUDSR_NEXT_DIST_DIR || ".next",
};

export default nextConfig;
