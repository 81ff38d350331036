-- AlterTable
ALTER TABLE "Run" ADD COLUMN "stamp" TEXT;
