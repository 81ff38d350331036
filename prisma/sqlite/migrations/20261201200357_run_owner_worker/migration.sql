-- AlterTable
ALTER TABLE "Run" ADD COLUMN "owner" TEXT;
ALTER TABLE "Run" ADD COLUMN "worker" TEXT;
