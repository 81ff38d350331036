/** @type {import('next').NextConfig} */
const nextConfig = {
  // The engine (nodes/) is plain TypeScript shared by the editor and the server.
  reactStrictMode: true,
  // Native packages stay outside the server bundle (Next already lists these; kept explicit for clarity).
  serverExternalPackages: ["onnxruntime-node", "sharp"],
};

export default nextConfig;
