-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "owner" TEXT,
ADD COLUMN     "worker" TEXT;
