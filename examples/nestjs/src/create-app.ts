import 'reflect-metadata'
import type { INestApplication } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { type AppConfig, AppModule } from './app.module.js'

export async function createApp(config: AppConfig, options: { logger?: false } = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.with(config), { logger: options.logger })
  app.enableShutdownHooks() // SIGTERM/SIGINT close the app, and the module ends the pool
  return app
}
